import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { createBridge, installBridge } from './bridge';
import './styles.css';

installBridge(createBridge());
createApp(App).use(createPinia()).mount('#app');
