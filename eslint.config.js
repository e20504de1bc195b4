// ESLint flat config. Besides typescript-eslint's recommended rules it enforces the import
// boundaries of ARCHITECTURE.md: pure folders touch no Node, Electron or DOM; only
// src-main/electron imports electron; the renderer never imports backend code but the contract.
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';

const nodeModules = [{ group: ['node:*', 'fs', 'net', 'path', 'os', 'child_process', 'crypto', 'http', 'events', 'stream', 'zlib', 'url', 'util'], message: 'pure folder: IO and Node APIs belong in node/, supervisor/ or web/ (pass them in through an Env).' }];
const electronBan = { group: ['electron'], message: 'only src-main/electron may import electron.' };
const pure = ['src-main/common/**', 'src-main/jute/**', 'src-main/tree/**', 'src-main/zab/**', 'src-main/server/**', 'src-main/storage/**', 'src-main/api/**'];

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', '**/*.d.ts', '.zoolab-tmp/**'] },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  {
    files: pure,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeModules, electronBan] }],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'pure folder: time comes in through the Env clock.' }, { name: 'setInterval', message: 'pure folder: time comes in through the Env clock.' }, { name: 'Buffer', message: 'pure folder: use Uint8Array.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure folder: use the Env clock.' }, { object: 'Math', property: 'random', message: 'pure folder: use the Env random.' }],
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electronBan] }] },
  },
  {
    files: pure,
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...nodeModules, electronBan] }] },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeModules, electronBan, { group: ['**/src-main/*', '!**/src-main/api', '!**/src-main/common', '../../src-main/!(api|common)/**'], message: 'the renderer may import only src-main/api and src-main/common from the backend.' }] }],
    },
  },
);
