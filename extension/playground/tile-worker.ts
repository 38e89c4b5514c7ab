/** The playground's Web Worker: the language service and the compiler off the UI thread. */
import { expose } from 'comlink';
import { PlaygroundApi } from './api.js';

expose(new PlaygroundApi());
