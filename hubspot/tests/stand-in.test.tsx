// The stand-in host (stand-in/ui-extensions.tsx) without a browser: hubspot.fetch against a mocked
// proxy, the overlays the actions draw (rendered to HTML), and the components' markup.
import { renderToStaticMarkup } from "react-dom/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  ALERT_MS,
  Alert,
  Button,
  closeIframeModal,
  DescriptionList,
  DescriptionListItem,
  Flex,
  HostOverlays,
  hostActions,
  hubspot,
  LoadingSpinner,
  registrations,
  Select,
  Tag,
  useExtensionContext,
} from "../stand-in/ui-extensions.tsx";

const HOST: IdvHubSpotHost = {
  card: "contact",
  context: {
    location: "crm.record.sidebar",
    crm: { objectId: 101, objectTypeId: "0-1" },
    portal: { id: 4242, timezone: "Europe/Paris" },
    user: { id: 7, email: "rep@demo.example", locale: "en-us" },
  },
  fetchProxy: "/hubspot/fetch-proxy",
  backendOrigin: "https://idv.demo.test",
};

const URL_CONTACT = "https://idv.demo.test/hubspot/v1/card/contacts/101";

let proxy: ReturnType<typeof vi.fn>;
let dispatched: Event[];

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

beforeEach(() => {
  dispatched = [];
  vi.stubGlobal("window", {
    IDV_HUBSPOT_HOST: HOST,
    dispatchEvent: (e: Event) => dispatched.push(e) > 0,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  });
  proxy = vi.fn(async () => answer(200, { status: 200, body: '{"ok":true}' }));
  vi.stubGlobal("fetch", proxy);
});

afterEach(() => {
  closeIframeModal();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** The JSON `hubspot.fetch` posted to the proxy, with the proxy call's URL and options. */
function sent(call = 0) {
  const [url, init] = proxy.mock.calls[call] as [string, RequestInit];
  return { url, init, json: JSON.parse(String(init.body)) as unknown };
}

describe("hubspot.fetch", () => {
  it("refuses any header but Authorization, as HubSpot's proxy does", async () => {
    await expect(hubspot.fetch(URL_CONTACT, { headers: { "X-Api-Key": "k" } })).rejects.toThrow(
      /only the Authorization header, not X-Api-Key/,
    );
    await expect(
      hubspot.fetch(URL_CONTACT, { headers: new Headers({ "content-type": "text/plain" }) }),
    ).rejects.toThrow(Error);
    expect(proxy).not.toHaveBeenCalled();

    await hubspot.fetch(URL_CONTACT, { headers: { authorization: "Bearer t" } });
    expect(sent().json).toMatchObject({ headers: { authorization: "Bearer t" } });
  });

  it("posts the request to the page's proxy as JSON", async () => {
    await hubspot.fetch(URL_CONTACT);
    await hubspot.fetch(`${URL_CONTACT}/step-up`, {
      method: "POST",
      body: { idempotency_key: "k-1" },
      timeout: 3000,
    });

    const get = sent(0);
    expect(get.url).toBe("/hubspot/fetch-proxy");
    expect(get.init.method).toBe("POST");
    expect(get.init.headers).toEqual({ "content-type": "application/json" });
    expect(get.json).toEqual({ url: URL_CONTACT, method: "GET", body: null, headers: {}, timeout: 15000 });
    expect(sent(1).json).toEqual({
      url: `${URL_CONTACT}/step-up`,
      method: "POST",
      body: { idempotency_key: "k-1" },
      headers: {},
      timeout: 3000,
    });
  });

  it("answers a Response with the backend's status and body", async () => {
    proxy.mockResolvedValueOnce(
      answer(200, { status: 404, body: '{"error":"not_found","message":"No such contact"}' }),
    );
    const response = await hubspot.fetch(URL_CONTACT);
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(404);
    expect(response.ok).toBe(false);
    expect(response.headers.get("content-type")).toBe("application/json");
    await expect(response.json()).resolves.toEqual({ error: "not_found", message: "No such contact" });
  });

  it("gives a 204 no body, and rejects when the proxy itself fails", async () => {
    proxy.mockResolvedValueOnce(answer(200, { status: 204, body: "" }));
    const empty = await hubspot.fetch(URL_CONTACT, { method: "POST", body: {} });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();

    proxy.mockResolvedValueOnce(answer(502, { error: "bad_gateway" }));
    await expect(hubspot.fetch(URL_CONTACT)).rejects.toThrow(/proxy answered 502/);
    proxy.mockResolvedValueOnce(answer(200, { body: "{}" }));
    await expect(hubspot.fetch(URL_CONTACT)).rejects.toThrow(Error);
  });
});

describe("extend, context and actions", () => {
  it("records each render function in order", () => {
    const before = registrations.length;
    const first = () => <Tag>one</Tag>;
    const second = () => <Tag>two</Tag>;
    hubspot.extend<"crm.record.sidebar">(first);
    hubspot.extend<"crm.record.sidebar">(second);
    expect(registrations.slice(before)).toEqual([first, second]);
  });

  it("gives the page's context", () => {
    expect(useExtensionContext<"crm.record.sidebar">()).toBe(HOST.context);
  });

  it("openIframeModal draws the frame and calls onClose when closed", () => {
    expect(renderToStaticMarkup(<HostOverlays />)).toBe("");
    const onClose = vi.fn();
    hostActions.openIframeModal(
      { uri: "https://idv.demo.test/hubspot/v1/widget?t=abc", width: 640, height: 760, title: "Identity details" },
      onClose,
    );

    const html = renderToStaticMarkup(<HostOverlays />);
    expect(html).toContain('data-testid="hs-modal" role="dialog" aria-modal="true" aria-label="Identity details"');
    expect(html).toContain('data-testid="hs-modal-close"');
    expect(html).toMatch(/<iframe data-testid="hs-modal-frame" src="https:\/\/idv\.demo\.test\/hubspot\/v1\/widget\?t=abc"/);
    expect(html).toContain("width:min(640px, calc(100vw - 32px))");
    expect(html).toContain("height:min(760px, calc(100vh - 96px))");
    expect(onClose).not.toHaveBeenCalled();

    closeIframeModal();
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(renderToStaticMarkup(<HostOverlays />)).toBe("");
    closeIframeModal();
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("a second modal closes the first", () => {
    const first = vi.fn();
    hostActions.openIframeModal({ uri: "https://idv.demo.test/a", width: 600, height: 400 }, first);
    hostActions.openIframeModal({ uri: "https://idv.demo.test/b", width: 600, height: 400 });
    expect(first).toHaveBeenCalledTimes(1);
    expect(renderToStaticMarkup(<HostOverlays />)).toContain('src="https://idv.demo.test/b"');
  });

  it("addAlert shows an alert for a while", () => {
    vi.useFakeTimers();
    hostActions.addAlert({ type: "success", title: "Sent", message: "The link is on its way" });
    const html = renderToStaticMarkup(<HostOverlays />);
    expect(html).toContain('data-testid="hs-alert" role="status" class="alert alert-success toast"');
    expect(html).toContain("<strong class=\"alert-title\">Sent</strong>");
    expect(html).toContain("The link is on its way");
    vi.advanceTimersByTime(ALERT_MS);
    expect(renderToStaticMarkup(<HostOverlays />)).not.toContain("hs-alert");
  });

  it("refreshObjectProperties tells the page, copyTextToClipboard resolves either way", async () => {
    hostActions.refreshObjectProperties();
    expect(dispatched.map((e) => e.type)).toEqual(["hubspot:refresh-properties"]);

    const writeText = vi.fn(async () => {
      throw new Error("denied");
    });
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    await expect(hostActions.copyTextToClipboard("https://idv.demo.test/v/1")).resolves.toBeUndefined();
    expect(writeText).toHaveBeenCalledWith("https://idv.demo.test/v/1");
    vi.stubGlobal("navigator", undefined);
    await expect(hostActions.copyTextToClipboard("x")).resolves.toBeUndefined();
  });
});

describe("components", () => {
  it("draw semantic HTML with the test ids", () => {
    expect(
      renderToStaticMarkup(
        <Button testId="idv-verify" variant="primary" disabled>
          Verify
        </Button>,
      ),
    ).toBe('<button data-testid="idv-verify" type="button" class="btn btn-primary" disabled="">Verify</button>');
    expect(renderToStaticMarkup(<Tag testId="idv-badge" variant="success">Verified</Tag>)).toBe(
      '<span data-testid="idv-badge" class="tag tag-success">Verified</span>',
    );
    expect(renderToStaticMarkup(<Alert testId="idv-failed" title="Failed" variant="error">Blurry</Alert>)).toBe(
      '<div data-testid="idv-failed" role="alert" class="alert alert-error"><strong class="alert-title">Failed</strong><div class="alert-body">Blurry</div></div>',
    );
    expect(renderToStaticMarkup(<LoadingSpinner testId="idv-loading" label="Loading" showLabel layout="centered" />)).toContain(
      '<span class="spinner-label">Loading</span>',
    );
    expect(
      renderToStaticMarkup(
        <DescriptionList testId="idv-facts" direction="row">
          <DescriptionListItem testId="idv-fact-ial" label="Level">
            IAL2
          </DescriptionListItem>
        </DescriptionList>,
      ),
    ).toBe('<dl data-testid="idv-facts" class="dl dl-row"><div data-testid="idv-fact-ial" class="dl-item"><dt>Level</dt><dd>IAL2</dd></div></dl>');
    expect(renderToStaticMarkup(<Flex direction="column" gap="sm" wrap testId="f" />)).toBe(
      '<div data-testid="f" class="flex flex-column" style="display:flex;flex-direction:column;gap:8px;flex-wrap:wrap"></div>',
    );
  });

  it("Select draws a labelled select of the options", () => {
    const html = renderToStaticMarkup(
      <Select
        testId="idv-ial"
        label="Level"
        value="IAL1"
        options={[
          { value: "IAL2", label: "IAL2" },
          { value: "IAL1", label: "IAL1" },
        ]}
        onChange={() => undefined}
      />,
    );
    expect(html).toBe(
      '<label class="field" data-testid="idv-ial"><span class="field-label">Level</span><select><option value="IAL2">IAL2</option><option value="IAL1" selected="">IAL1</option></select></label>',
    );
  });
});
