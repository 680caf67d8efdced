import { render } from 'preact';
import { App } from './app/App.js';

render(<App />, document.getElementById('app')!);

// The installed app (issue 20): Web Push and the offline page come from the service worker (web/public/sw.js).
if ('serviceWorker' in navigator) addEventListener('load', () => void navigator.serviceWorker.register('/sw.js').catch(() => undefined));
