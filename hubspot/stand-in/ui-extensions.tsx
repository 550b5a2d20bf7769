/**
 * A stand-in for the part of `@hubspot/ui-extensions` (0.17) the cards use, so the real cards run
 * on a plain web page outside HubSpot (the offline demo's record pages). The build
 * (`scripts/build-host.mjs`) resolves `@hubspot/ui-extensions` to this file.
 *
 * - Components draw semantic HTML (`testId` becomes `data-testid`), styled by `host.css`.
 * - `hubspot.extend` records each card's render function, in the order the modules run.
 * - `hubspot.fetch` keeps HubSpot's proxy rules (only an `Authorization` header) and posts each
 *   request as JSON to the page's proxy (`window.IDV_HUBSPOT_HOST.fetchProxy`), which answers
 *   `{ status, body }`.
 * - The hooks read the page's `window.IDV_HUBSPOT_HOST`; the actions draw the iframe modal and the
 *   alerts through `HostOverlays`, which the entry mounts beside the card.
 *
 * `tsconfig.stand-in.json` type-checks the cards against these exports, so every component and
 * prop a card uses must exist here.
 */
import { useEffect, useSyncExternalStore, type CSSProperties, type ReactElement, type ReactNode } from "react";

// ---------------------------------------------------------------------------------------------
// Shared prop types (a subset of HubSpot's)

type Distance = "flush" | "extra-small" | "xs" | "small" | "sm" | "medium" | "md" | "large" | "lg" | "extra-large" | "xl";

interface Base {
  testId?: string;
}

/** What a click handler receives: HubSpot's `ExtensionEvent` fields. */
export interface ExtensionEvent {
  type: string;
  bubbles: boolean;
  timeStamp: number;
  id: string;
}

const SPACE: Record<Distance, string> = {
  flush: "0",
  "extra-small": "4px",
  xs: "4px",
  small: "8px",
  sm: "8px",
  medium: "16px",
  md: "16px",
  large: "24px",
  lg: "24px",
  "extra-large": "32px",
  xl: "32px",
};

const cls = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(" ");

// ---------------------------------------------------------------------------------------------
// Components

export interface TextProps extends Base {
  children?: ReactNode;
  variant?: "bodytext" | "microcopy";
  inline?: boolean;
  format?: {
    fontWeight?: "regular" | "bold" | "demibold";
    italic?: boolean;
    lineDecoration?: "none" | "underline" | "strikethrough";
    textTransform?: "none" | "uppercase" | "lowercase" | "capitalize" | "sentenceCase";
  };
  truncate?: boolean | { maxWidth?: number; tooltipText?: string };
}

export function Text({ testId, children, variant, inline, format, truncate }: TextProps) {
  const style: CSSProperties = {
    fontStyle: format?.italic ? "italic" : undefined,
    textDecoration:
      format?.lineDecoration === "strikethrough" ? "line-through" : format?.lineDecoration === "underline" ? "underline" : undefined,
    textTransform:
      format?.textTransform && format.textTransform !== "sentenceCase" && format.textTransform !== "none"
        ? format.textTransform
        : undefined,
    ...(truncate
      ? {
          overflow: "hidden",
          textOverflow: "ellipsis",
          whiteSpace: "nowrap",
          maxWidth: typeof truncate === "object" && truncate.maxWidth ? `${truncate.maxWidth}px` : undefined,
        }
      : {}),
  };
  const className = cls(
    "text",
    variant === "microcopy" && "text-microcopy",
    format?.fontWeight === "bold" && "text-bold",
    format?.fontWeight === "demibold" && "text-demibold",
  );
  const Element = inline ? "span" : "p";
  return (
    <Element data-testid={testId} className={className} style={style}>
      {children}
    </Element>
  );
}

export interface FlexProps extends Base {
  children?: ReactNode;
  direction?: "row" | "column";
  gap?: Distance;
  justify?: "center" | "end" | "start" | "around" | "between";
  align?: "start" | "center" | "baseline" | "end" | "stretch";
  alignSelf?: "start" | "center" | "baseline" | "end" | "stretch";
  wrap?: boolean | "wrap" | "nowrap";
}

const FLEX_POSITION: Record<string, string> = {
  start: "flex-start",
  end: "flex-end",
  center: "center",
  baseline: "baseline",
  stretch: "stretch",
  around: "space-around",
  between: "space-between",
};

export function Flex({ testId, children, direction = "row", gap = "flush", justify, align, alignSelf, wrap }: FlexProps) {
  const style: CSSProperties = {
    display: "flex",
    flexDirection: direction,
    gap: SPACE[gap],
    flexWrap: wrap === true || wrap === "wrap" ? "wrap" : "nowrap",
    justifyContent: justify ? FLEX_POSITION[justify] : undefined,
    alignItems: align ? FLEX_POSITION[align] : direction === "row" ? "center" : undefined,
    alignSelf: alignSelf ? FLEX_POSITION[alignSelf] : undefined,
  };
  return (
    <div data-testid={testId} className={cls("flex", `flex-${direction}`)} style={style}>
      {children}
    </div>
  );
}

export interface ButtonProps extends Base {
  children?: ReactNode;
  onClick?: (event: ExtensionEvent) => void | Promise<void>;
  disabled?: boolean;
  variant?: "primary" | "secondary" | "destructive" | "transparent";
  type?: "button" | "reset" | "submit";
  size?: "xs" | "extra-small" | "sm" | "small" | "md" | "medium";
}

let eventCount = 0;

export function Button({ testId, children, onClick, disabled, variant = "secondary", type = "button", size }: ButtonProps) {
  return (
    <button
      data-testid={testId}
      type={type}
      className={cls("btn", `btn-${variant}`, size && `btn-${size}`)}
      disabled={disabled}
      onClick={(e) => {
        eventCount += 1;
        void onClick?.({ type: e.type, bubbles: e.bubbles, timeStamp: e.timeStamp, id: `event-${eventCount}` });
      }}
    >
      {children}
    </button>
  );
}

export interface TagProps extends Base {
  children?: ReactNode;
  variant?: "default" | "warning" | "success" | "error" | "info";
  inline?: boolean;
}

export function Tag({ testId, children, variant = "default" }: TagProps) {
  return (
    <span data-testid={testId} className={`tag tag-${variant}`}>
      {children}
    </span>
  );
}

export interface AlertProps extends Base {
  title: string;
  children?: ReactNode;
  variant?: "info" | "warning" | "success" | "error" | "danger" | "tip";
}

export function Alert({ testId, title, children, variant = "info" }: AlertProps) {
  const urgent = variant === "error" || variant === "danger" || variant === "warning";
  return (
    <div data-testid={testId} role={urgent ? "alert" : "status"} className={`alert alert-${variant}`}>
      <strong className="alert-title">{title}</strong>
      {children !== undefined && children !== null ? <div className="alert-body">{children}</div> : null}
    </div>
  );
}

export interface DividerProps extends Base {
  distance?: Distance;
  size?: Distance;
}

export function Divider({ testId, distance = "sm" }: DividerProps) {
  return <hr data-testid={testId} className="divider" style={{ margin: `${SPACE[distance]} 0` }} />;
}

export interface DescriptionListProps extends Base {
  children: ReactNode;
  direction?: "row" | "column";
}

export function DescriptionList({ testId, children, direction = "column" }: DescriptionListProps) {
  return (
    <dl data-testid={testId} className={`dl dl-${direction}`}>
      {children}
    </dl>
  );
}

export interface DescriptionListItemProps extends Base {
  children: ReactNode;
  label: string;
}

export function DescriptionListItem({ testId, children, label }: DescriptionListItemProps) {
  return (
    <div data-testid={testId} className="dl-item">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export interface LoadingSpinnerProps extends Base {
  label: string;
  showLabel?: boolean;
  size?: "xs" | "extra-small" | "sm" | "small" | "md" | "medium";
  layout?: "inline" | "centered";
}

export function LoadingSpinner({ testId, label, showLabel, size = "sm", layout = "inline" }: LoadingSpinnerProps) {
  const short = size === "extra-small" ? "xs" : size === "small" ? "sm" : size === "medium" ? "md" : size;
  return (
    <div data-testid={testId} role="status" className={cls("spinner", `spinner-${layout}`, `spinner-${short}`)}>
      <span className="spinner-wheel" aria-hidden="true" />
      <span className={showLabel ? "spinner-label" : "visually-hidden"}>{label}</span>
    </div>
  );
}

type OptionValue = string | number | boolean;

export interface SelectProps extends Base {
  label?: string;
  name?: string;
  value?: OptionValue;
  options: { label: string; value: OptionValue }[];
  onChange?: (value: OptionValue) => void;
  required?: boolean;
  readOnly?: boolean;
  description?: string;
  placeholder?: string;
  error?: boolean;
  validationMessage?: string;
  variant?: "transparent" | "input";
}

export function Select({
  testId,
  label,
  name,
  value,
  options,
  onChange,
  required,
  readOnly,
  description,
  placeholder,
  error,
  validationMessage,
}: SelectProps) {
  const index = options.findIndex((o) => o.value === value);
  return (
    <label className="field" data-testid={testId}>
      {label ? (
        <span className="field-label">
          {label}
          {required ? " *" : null}
        </span>
      ) : null}
      {description ? <span className="field-description">{description}</span> : null}
      <select
        name={name}
        value={index >= 0 ? String(options[index].value) : ""}
        disabled={readOnly}
        required={required}
        aria-invalid={error || undefined}
        onChange={(e) => {
          const picked = options.find((o) => String(o.value) === e.target.value);
          if (picked) {
            onChange?.(picked.value);
          }
        }}
      >
        {index < 0 ? (
          <option value="" disabled>
            {placeholder ?? ""}
          </option>
        ) : null}
        {options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
      {error && validationMessage ? <span className="field-description">{validationMessage}</span> : null}
    </label>
  );
}

// ---------------------------------------------------------------------------------------------
// hubspot.extend and hubspot.fetch

export type Location = IdvHubSpotContext["location"];
export type ContextOf<L extends Location> = IdvHubSpotContext & { location: L };

export interface ExtensionApi<L extends Location> {
  context: ContextOf<L>;
  actions: ActionsOf<L>;
}

export type RenderExtension<L extends Location> = (api: ExtensionApi<L>) => ReactElement;

/** Every render function given to `hubspot.extend`, in the order the card modules ran. */
export const registrations: RenderExtension<Location>[] = [];

export interface FetchOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  timeout?: number;
  body?: { [key: string]: unknown };
  headers?: Headers | Record<string, string>;
}

/** What `hubspot.fetch` posts to the page's proxy. */
export interface ProxyRequest {
  url: string;
  method: string;
  body: { [key: string]: unknown } | null;
  headers: Record<string, string>;
  timeout: number;
}

/** What the page's proxy answers: the backend's status and its body as text. */
export interface ProxyAnswer {
  status: number;
  body: string;
}

function headerRecord(headers: FetchOptions["headers"]): Record<string, string> {
  if (!headers) {
    return {};
  }
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    const out: Record<string, string> = {};
    headers.forEach((value, name) => {
      out[name] = value;
    });
    return out;
  }
  return { ...(headers as Record<string, string>) };
}

/** Statuses whose response can carry no body. */
const NO_BODY = new Set([204, 205, 304]);

async function proxyFetch(url: string | URL, options: FetchOptions = {}): Promise<Response> {
  const headers = headerRecord(options.headers);
  const refused = Object.keys(headers).filter((name) => name.toLowerCase() !== "authorization");
  if (refused.length > 0) {
    throw new Error(`hubspot.fetch allows only the Authorization header, not ${refused.join(", ")}`);
  }
  const request: ProxyRequest = {
    url: String(url),
    method: options.method || "GET",
    body: options.body ?? null,
    headers,
    timeout: options.timeout ?? 15000,
  };
  const proxy = await globalThis.fetch(window.IDV_HUBSPOT_HOST.fetchProxy, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    credentials: "same-origin",
  });
  if (!proxy.ok) {
    throw new Error(`hubspot.fetch: the proxy answered ${proxy.status}`);
  }
  const answer = (await proxy.json()) as Partial<ProxyAnswer>;
  const status = answer.status;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new Error(`hubspot.fetch: the proxy's answer has no usable status (${String(status)})`);
  }
  const body = NO_BODY.has(status) || !answer.body ? null : answer.body;
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

export const hubspot = {
  /** Records the card's render function; the entry draws it. */
  extend<L extends Location>(render: RenderExtension<L>): void {
    registrations.push(render as RenderExtension<Location>);
  },
  fetch: proxyFetch,
};

// ---------------------------------------------------------------------------------------------
// Overlays: the iframe modal and the alerts the actions show

interface ModalState {
  uri: string;
  width: number;
  height: number;
  title?: string;
  onClose?: () => void;
}

interface ToastState {
  key: number;
  type: AlertType;
  title?: string;
  message: string;
}

type AlertType = "info" | "warning" | "success" | "danger" | "tip";

interface OverlayState {
  modal: ModalState | null;
  toasts: ToastState[];
}

let overlays: OverlayState = { modal: null, toasts: [] };
let toastCount = 0;
const listeners = new Set<() => void>();

function setOverlays(next: OverlayState) {
  overlays = next;
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

const snapshot = () => overlays;

/** How long an alert from `addAlert` stays. */
export const ALERT_MS = 6000;

/** Closes the iframe modal (its close button, Escape, `closeOverlay`) and calls its `onClose`. */
export function closeIframeModal(): void {
  const open = overlays.modal;
  if (!open) {
    return;
  }
  setOverlays({ ...overlays, modal: null });
  open.onClose?.();
}

function dismissAlert(key: number) {
  setOverlays({ ...overlays, toasts: overlays.toasts.filter((t) => t.key !== key) });
}

/** The modal and the alerts; the entry mounts it in its own root. */
export function HostOverlays() {
  const { modal, toasts } = useSyncExternalStore(subscribe, snapshot, snapshot);
  const open = modal !== null;
  useEffect(() => {
    if (!open) {
      return;
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        closeIframeModal();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);

  return (
    <>
      {modal ? (
        <div className="modal-backdrop">
          <div data-testid="hs-modal" role="dialog" aria-modal="true" aria-label={modal.title} className="modal">
            <div className="modal-header">
              <h2>{modal.title}</h2>
              <button
                data-testid="hs-modal-close"
                type="button"
                className="modal-close"
                aria-label="Close"
                autoFocus
                onClick={closeIframeModal}
              >
                ×
              </button>
            </div>
            <iframe
              data-testid="hs-modal-frame"
              src={modal.uri}
              title={modal.title}
              style={{
                width: `min(${modal.width}px, calc(100vw - 32px))`,
                height: `min(${modal.height}px, calc(100vh - 96px))`,
              }}
            />
          </div>
        </div>
      ) : null}
      {toasts.length > 0 ? (
        <div className="toasts">
          {toasts.map((t) => (
            <div
              key={t.key}
              data-testid="hs-alert"
              role={t.type === "danger" || t.type === "warning" ? "alert" : "status"}
              className={`alert alert-${t.type} toast`}
              onClick={() => dismissAlert(t.key)}
            >
              {t.title ? <strong className="alert-title">{t.title}</strong> : null}
              <div className="alert-body">{t.message}</div>
            </div>
          ))}
        </div>
      ) : null}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Hooks and actions

export interface HostActions {
  openIframeModal(payload: { uri: string; width: number; height: number; title?: string; flush?: boolean }, onClose?: () => void): void;
  closeOverlay(id: string): void;
  copyTextToClipboard(text: string): Promise<void>;
  addAlert(alert: { type?: AlertType; message: string; title?: string }): void;
  refreshObjectProperties(): void;
  reloadPage(): void;
}

export type ActionsOf<L extends Location> = L extends "crm.record.sidebar" ? HostActions : never;

export const hostActions: HostActions = {
  openIframeModal({ uri, width, height, title }, onClose) {
    // One modal at a time, as in HubSpot: a new one closes the one before.
    closeIframeModal();
    setOverlays({ ...overlays, modal: { uri, width, height, title, onClose } });
  },
  closeOverlay() {
    closeIframeModal();
  },
  async copyTextToClipboard(text) {
    try {
      await globalThis.navigator?.clipboard?.writeText(text);
    } catch {
      // A page without clipboard access still goes on.
    }
  },
  addAlert({ type = "info", message, title }) {
    toastCount += 1;
    const key = toastCount;
    setOverlays({ ...overlays, toasts: [...overlays.toasts, { key, type, title, message }] });
    setTimeout(() => dismissAlert(key), ALERT_MS);
  },
  refreshObjectProperties() {
    window.dispatchEvent(new Event("hubspot:refresh-properties"));
  },
  reloadPage() {
    window.location.reload();
  },
};

export function useExtensionContext<L extends Location = Location>(): ContextOf<L> {
  return window.IDV_HUBSPOT_HOST.context as ContextOf<L>;
}

export function useExtensionActions<L extends Location = Location>(): ActionsOf<L> {
  return hostActions as ActionsOf<L>;
}
