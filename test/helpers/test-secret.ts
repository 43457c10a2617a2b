/** The API-key encryption secret tests run with (server mode refuses to start without one). */
export const TEST_ENCRYPTION_SECRET = "fineflow-test-encryption-secret-0123456789";
