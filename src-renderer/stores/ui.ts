/** UI preferences: the theme (dark or light), remembered across launches. */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';

export type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const saved = localStorage.getItem('zoolab-theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export const useUiStore = defineStore('ui', () => {
  const theme = ref<Theme>(initialTheme());
  watch(
    theme,
    (t) => {
      // switch at once: no element fades between the two palettes
      const root = document.documentElement;
      root.classList.add('theme-switching');
      root.dataset['theme'] = t;
      localStorage.setItem('zoolab-theme', t);
      requestAnimationFrame(() => requestAnimationFrame(() => root.classList.remove('theme-switching')));
    },
    { immediate: true },
  );
  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark';
  }
  return { theme, toggleTheme };
});
