import { ConfigError, loadProjectorConfig } from '@app/config';
import { startProjector } from './bootstrap.js';
import { loadProjectorMemoryConfig } from './config/projector-memory.config.js';

try {
  await startProjector({ ...loadProjectorConfig(), ...loadProjectorMemoryConfig() });
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
