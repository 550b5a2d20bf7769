import { defineConfig } from 'vitest/config';

// Unit tests of the serverless forwarder, as `fdk unit-test` runs them: `fdk pack` reads
// coverage/unit/coverage-final.json and wants at least 80 % (see README).
export default defineConfig({
  test: {
    globals: true,
    environment: 'node',
    include: ['tests/serverless/**/*.test.js'],
    coverage: {
      provider: 'v8',
      reportsDirectory: 'coverage/unit',
      reporter: ['json', 'text'],
      include: ['server/server.js', 'server/lib/**/*.js'],
      thresholds: {
        statements: 80,
        branches: 80,
        functions: 80,
        lines: 80
      }
    }
  }
});
