/**
 * `hubspot.fetch` and `hubspot.extend` replaced by Vitest mocks (`createRenderer` mocks the hooks
 * and actions, not the fetch). A setup file of vitest.config.ts, so every test file sees them.
 */
import { vi } from "vitest";

const mocks = vi.hoisted(() => ({ fetchMock: vi.fn(), extendMock: vi.fn() }));

vi.mock("@hubspot/ui-extensions", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@hubspot/ui-extensions")>();
  return { ...actual, hubspot: { ...actual.hubspot, fetch: mocks.fetchMock, extend: mocks.extendMock } };
});

export const fetchMock = mocks.fetchMock;
export const extendMock = mocks.extendMock;
