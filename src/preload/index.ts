import { contextBridge, ipcRenderer } from 'electron';
import { createIpcApi } from './api';

contextBridge.exposeInMainWorld('portwatch', createIpcApi(ipcRenderer));
