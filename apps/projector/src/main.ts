import { ConfigError, loadProjectorConfig } from '@app/config';
import { startProjector } from './bootstrap.js';

try {
  await startProjector(loadProjectorConfig());
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
