import { defineComponent } from "convex/server";
import counter from "../counter/convex.config";

const component = defineComponent("ledger");
component.use(counter);
export default component;
