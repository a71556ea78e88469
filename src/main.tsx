import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';
import { useStore } from './state/store';
import { benchForwardOnly } from './runner/cnnActions';

// A read-only handle for the end-to-end tests, which compare the numbers panels show with the data behind them.
(window as unknown as { __rcnnStore?: typeof useStore }).__rcnnStore = useStore;
// For `rcnn bench app`: the forward-only throughput of the same CNN workers, measured in the same page.
(window as unknown as { __rcnnBench?: { forwardOnly: typeof benchForwardOnly } }).__rcnnBench = { forwardOnly: benchForwardOnly };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
