import { projectTestConfig } from '../../vitest.shared.ts';

// The GridFS adapter's tests run against a real server: $MONGODB_URI, else a FerretDB started for the run.
export default projectTestConfig(import.meta.dirname, { services: ['ferretdb'] });
