// The retraining model's parameters as the form shows them, read from the validator's own
// schema (retrainingSchema in src/core/scenario.ts): the same names, defaults, choices and
// descriptions as the CLI, so a parameter added to a model appears on the page without a
// second list to keep in step.
import { z } from "zod";
import { retrainingSchema } from "../core/scenario.js";

/** How a parameter is edited: a number, a list of integers (hidden widths), one of a few words, or true/false. */
export type ParameterKind = "number" | "integers" | "choice" | "boolean";

export interface RetrainingParameter {
  name: string;
  kind: ParameterKind;
  /** The validator's default, shown when the scenario leaves the parameter out. */
  default?: unknown;
  /** The words a "choice" accepts. */
  options?: readonly string[];
  description?: string;
}

/** The models the validator accepts, in its order ("exact", "histogram", ...). */
export const retrainingModels: readonly string[] = retrainingSchema.options.map((o) => o.shape.model.value);

/** The parameters of one retraining model (every field but `model`), in the schema's order; [] for an unknown model. */
export function retrainingParameters(model: string): RetrainingParameter[] {
  const option = retrainingSchema.options.find((o) => o.shape.model.value === model);
  if (!option) return [];
  const out: RetrainingParameter[] = [];
  for (const [name, field] of Object.entries(option.shape as Record<string, z.ZodType>)) {
    if (name === "model") continue;
    const description = field.description;
    let inner = field;
    let fallback: unknown;
    if (inner instanceof z.ZodDefault) {
      fallback = inner.def.defaultValue;
      inner = inner.unwrap() as z.ZodType;
    }
    if (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    const kind: ParameterKind =
      inner instanceof z.ZodEnum ? "choice"
      : inner instanceof z.ZodBoolean ? "boolean"
      : inner instanceof z.ZodArray ? "integers"
      : "number";
    out.push({
      name,
      kind,
      ...(fallback !== undefined ? { default: fallback } : {}),
      ...(inner instanceof z.ZodEnum ? { options: inner.options.map(String) } : {}),
      ...(description ? { description } : {}),
    });
  }
  return out;
}
