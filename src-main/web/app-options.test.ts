import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronVerdict, parseAppArgs } from './app-options';

describe('parseAppArgs', () => {
  it('defaults: Electron if it can, 3 servers, a free port, open a browser', () => {
    expect(parseAppArgs([])).toEqual({ web: false, port: 0, open: true, servers: 3, dir: null });
  });
  it('reads every flag, in both --flag value and --flag=value forms', () => {
    expect(parseAppArgs(['--web', '--no-open', '--port', '8123', '--servers=5', '--dir', '/tmp/x'])).toEqual({
      web: true,
      port: 8123,
      open: false,
      servers: 5,
      dir: '/tmp/x',
    });
  });
  it('bad values are usage errors naming the flag', () => {
    expect(() => parseAppArgs(['--servers', 'ten'])).toThrow(/--servers needs a number/);
    expect(() => parseAppArgs(['--servers', '12'])).toThrow(/--servers must be from 0 to 9/);
    expect(() => parseAppArgs(['--port'])).toThrow(/--port needs a number/);
    expect(() => parseAppArgs(['--frobnicate'])).toThrow(/unknown option '--frobnicate'/);
  });
  it('under Electron, Chromium switches are let through', () => {
    expect(parseAppArgs(['--enable-logging', '--servers', '5'], { ignoreUnknown: true })).toMatchObject({ servers: 5 });
  });
});

describe('electronVerdict', () => {
  const root = mkdtempSync(join(tmpdir(), 'zoolab-electron-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const pkg = join(root, 'package.json');
  writeFileSync(pkg, '{}');

  it('CI or no display → browser shell, with the reason', () => {
    expect(electronVerdict({ CI: 'true', DISPLAY: ':0' }, pkg, 'linux')).toMatchObject({ ok: false, reason: 'running in CI' });
    expect(electronVerdict({}, pkg, 'linux')).toMatchObject({ ok: false, reason: expect.stringMatching(/no display/) });
  });
  it('package without its binary → not runnable but fetchable', () => {
    expect(electronVerdict({ DISPLAY: ':0' }, pkg, 'linux')).toMatchObject({ ok: false, fetchable: true });
    expect(electronVerdict({ DISPLAY: ':0' }, null, 'linux')).toMatchObject({ ok: false, fetchable: false });
  });
  it('binary on disk and a display → Electron', () => {
    writeFileSync(join(root, 'path.txt'), 'electron');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist', 'electron'), '');
    expect(electronVerdict({ WAYLAND_DISPLAY: 'wayland-0' }, pkg, 'linux')).toEqual({ ok: true, binary: join(root, 'dist', 'electron') });
  });
});
