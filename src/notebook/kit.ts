/** Kept for notebooks that import openKit from here; the kit is opened by src/kit.ts. */
export { openKit, describeKit, type Kit, type OpenKitOptions } from "../kit";
