import { z } from "zod";
import { BUDGET_ENFORCEMENTS } from "./statuses.js";

/**
 * The shapes of what users send, checked the same way whether it comes over HTTP or the CLI. Messages
 * say what was expected; the transports add the field name.
 */
export const emailSchema = z
  .email({ error: "must be an email address" })
  .transform((email) => email.toLowerCase());

export const passwordSchema = z.string().min(8, "must be at least 8 characters").max(1024);

export const newUserSchema = z.object({ email: emailSchema, password: passwordSchema });

export const loginSchema = z.object({ email: emailSchema, password: z.string().max(1024) });

export const createTokenSchema = z.object({ name: z.string().trim().min(1, "must not be empty").max(100) });

export const projectNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

export const budgetSchema = z
  .number({ error: "must be a number of US dollars" })
  .min(0, "must not be negative")
  .max(1_000_000_000, "must be at most 1,000,000,000")
  .nullable();

export const createProjectSchema = z.object({
  name: projectNameSchema,
  description: z.string().max(2000).default(""),
  monthlyBudgetUsd: budgetSchema.default(null),
  budgetEnforcement: z.enum(BUDGET_ENFORCEMENTS).default("warn"),
});
export type CreateProjectInput = z.input<typeof createProjectSchema>;

export const updateProjectSchema = z
  .object({
    name: projectNameSchema,
    description: z.string().max(2000),
    monthlyBudgetUsd: budgetSchema,
    budgetEnforcement: z.enum(BUDGET_ENFORCEMENTS),
  })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "must change at least one field");
export type UpdateProjectInput = z.input<typeof updateProjectSchema>;
