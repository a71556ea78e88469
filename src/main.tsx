import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';
import { useStore } from './state/store';

// A read-only handle for the end-to-end tests, which compare the numbers panels show with the data behind them.
(window as unknown as { __rcnnStore?: typeof useStore }).__rcnnStore = useStore;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
