import './styles/app.css';
import { render } from 'preact';
import { App } from './app';
import { applyTheme, storedTheme } from './lib/theme';
import { interceptLinks } from './router';

// Before the first paint, so a dark system never flashes light.
applyTheme(storedTheme());
const root = document.getElementById('app') as HTMLElement;
interceptLinks(root);
render(<App />, root);
