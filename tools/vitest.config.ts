import { projectTestConfig } from '../vitest.shared.ts';

// The distributed end-to-end test talks to a real broker and a real MongoDB-wire server.
export default projectTestConfig(import.meta.dirname, { services: ['kafka', 'ferretdb'] });
