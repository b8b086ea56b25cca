import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { pickApi } from './api';
import { App } from './App';
import { SocketStore } from './store/socketStore';
import './styles.css';

const api = pickApi();
const store = new SocketStore(api);
store.start();
createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App store={store} api={api} />
  </StrictMode>,
);
