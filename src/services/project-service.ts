import type { Actor } from "../core/actor.js";
import { ConflictError, NotFoundError, ValidationError } from "../core/errors.js";
import {
  createProjectSchema,
  overlapIssue,
  targetIssue,
  type UpdateProjectInput,
  updateProjectSchema,
} from "../core/inputs.js";
import { isCheckViolation, isUniqueViolation } from "../db/errors.js";
import type { Project, ProjectsRepository } from "../db/repositories/projects-repository.js";
import { PROJECT_OVERLAP_CHECK } from "../db/schema.js";
import { parseInput } from "./parse-input.js";

export class ProjectService {
  constructor(private readonly projects: ProjectsRepository) {}

  async create(actor: Actor, input: unknown): Promise<Project> {
    const values = parseInput(createProjectSchema, input);
    return this.uniqueName(values.name, () => this.projects.insert(actor, values));
  }

  list(actor: Actor): Promise<Project[]> {
    return this.projects.list(actor);
  }

  async get(actor: Actor, id: string): Promise<Project> {
    const project = await this.projects.findById(actor, id);
    if (!project) throw new NotFoundError("Project", id);
    return project;
  }

  /** Finds a project by id or, as the CLI names them, by name. */
  async resolve(actor: Actor, idOrName: string): Promise<Project> {
    const project =
      (await this.projects.findById(actor, idOrName)) ?? (await this.projects.findByName(actor, idOrName));
    if (!project) throw new NotFoundError("Project", idOrName);
    return project;
  }

  async update(actor: Actor, id: string, input: unknown): Promise<Project> {
    const patch = parseInput(updateProjectSchema, input);
    await this.checkOverlap(actor, id, patch);
    try {
      const project = await this.uniqueName(patch.name, () => this.projects.update(actor, id, patch));
      if (!project) throw new NotFoundError("Project", id);
      return project;
    } catch (error) {
      if (!isCheckViolation(error, PROJECT_OVERLAP_CHECK)) throw error;
      // Another change to the project came between the check and the write: say it against that change.
      await this.checkOverlap(actor, id, patch);
      throw error;
    }
  }

  private async checkOverlap(actor: Actor, id: string, patch: UpdateProjectInput): Promise<void> {
    const settings = { ...(await this.get(actor, id)), ...patch };
    const target = patch.chunkOverlapTokens === undefined && targetIssue(settings);
    if (target) throw ValidationError.forField("chunkTargetTokens", target);
    const overlap = overlapIssue(settings);
    if (overlap) throw ValidationError.forField("chunkOverlapTokens", overlap);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    if (!(await this.projects.delete(actor, id))) throw new NotFoundError("Project", id);
  }

  private async uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`You already have a project named "${name}".`, { field: "name" });
      }
      throw error;
    }
  }
}
