import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import './ui/styles.css';
import { useStore } from './state/store';
import { benchForwardOnly } from './runner/cnnActions';
import { benchSearchOnly } from './runner/proposalActions';

// A read-only handle for the end-to-end tests, which compare the numbers panels show with the data behind them.
(window as unknown as { __rcnnStore?: typeof useStore }).__rcnnStore = useStore;
// For `rcnn bench app`: the forward-only throughput of the same CNN workers, and selective search in
// the same pool without the store and panels, measured in the same page.
(window as unknown as { __rcnnBench?: { forwardOnly: typeof benchForwardOnly; searchOnly: typeof benchSearchOnly } }).__rcnnBench = {
  forwardOnly: benchForwardOnly,
  searchOnly: benchSearchOnly,
};

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
