/**
 * Keyboard shortcuts, as a pure mapping from a key press to an intent. Acting on a server
 * needs one selected first (1–9); `s` and `p` toggle (stop/start, pause/resume).
 */
import type { ServerView } from '../../src-main/api/contract';
import { availableActions, type ServerAction } from './server-model';

export type Intent =
  | { kind: 'select'; id: number }
  | { kind: 'act'; action: ServerAction }
  | { kind: 'files' }
  | { kind: 'theme' }
  | { kind: 'filter' }
  | { kind: 'help' }
  | { kind: 'escape' };

export const shortcutHelp: readonly [string, string][] = [
  ['1 – 9', 'select server N'],
  ['k', 'kill the selected server (SIGKILL)'],
  ['r', 'restart it'],
  ['s', 'stop it, or start it when it is down'],
  ['p', 'pause it (SIGSTOP), or resume it'],
  ['f', 'show its zoo.cfg, myid and log'],
  ['/', 'filter the event log'],
  ['t', 'switch between dark and light'],
  ['?', 'this help'],
  ['Esc', 'close dialogs, clear the selection'],
];

export function intentFor(key: string, mods: { ctrl: boolean; meta: boolean; alt: boolean }): Intent | null {
  if (mods.ctrl || mods.meta || mods.alt) return null;
  if (/^[1-9]$/.test(key)) return { kind: 'select', id: Number(key) };
  switch (key) {
    case 'k':
      return { kind: 'act', action: 'kill' };
    case 'r':
      return { kind: 'act', action: 'restart' };
    case 's':
      return { kind: 'act', action: 'stop' };
    case 'p':
      return { kind: 'act', action: 'pause' };
    case 'f':
      return { kind: 'files' };
    case 't':
      return { kind: 'theme' };
    case '/':
      return { kind: 'filter' };
    case '?':
      return { kind: 'help' };
    case 'Escape':
      return { kind: 'escape' };
    default:
      return null;
  }
}

/** Resolves the toggles against the server's state; null when the action makes no sense now. */
export function resolveAction(action: ServerAction, server: ServerView): ServerAction | null {
  const can = availableActions(server);
  const chosen = action === 'stop' && !can.stop ? 'start' : action === 'pause' && !can.pause ? 'resume' : action;
  return can[chosen] ? chosen : null;
}

/** Keys typed into a text field belong to the field. */
export function isTypingTarget(tag: string | undefined, editable: boolean): boolean {
  return editable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}
