import { projectTestConfig } from '../../vitest.shared.ts';

// One test runs the scheduler on the MongoDB store: $MONGODB_URI, else a FerretDB started for the run.
export default projectTestConfig(import.meta.dirname, { services: ['ferretdb'] });
