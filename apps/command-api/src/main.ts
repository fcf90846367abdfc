import { ConfigError, loadCommandApiConfig } from '@app/config';
import { startCommandApi } from './bootstrap.js';

try {
  await startCommandApi(loadCommandApiConfig());
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
