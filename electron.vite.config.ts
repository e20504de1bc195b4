import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// One build for three targets. `main` carries every Node entry point: the Electron main
// process, and `cli` (the `zoolab` command: server, up, shell, app). The spawned server
// processes run `out/main/cli.js server <zoo.cfg>` with plain Node, so that bundle must never
// import electron; only electron-main does.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          'electron-main': resolve(__dirname, 'src-main/electron/main.ts'),
          cli: resolve(__dirname, 'src-main/cli/zoolab.ts'),
          sim: resolve(__dirname, 'src-main/sim/main.ts'),
          // the Node API for other people's test suites: import { startEnsemble } from 'zoolab/testing'
          testing: resolve(__dirname, 'src-main/supervisor/index.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve(__dirname, 'src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
});
