import { hubspot } from "@hubspot/ui-extensions";

import { DealView } from "./components/DealView.tsx";

hubspot.extend<"crm.record.sidebar">(() => <DealView />);
