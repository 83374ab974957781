import { render } from 'preact';
import './styles.css';
import { App } from './views/App.tsx';

render(<App />, document.getElementById('app')!);
