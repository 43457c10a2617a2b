import { and, asc, eq } from "drizzle-orm";
import type { Actor } from "../../core/actor.js";
import { isUuid } from "../../core/ids.js";
import type { Db } from "../client.js";
import { projects } from "../schema.js";

export type Project = typeof projects.$inferSelect;
export type NewProject = Omit<typeof projects.$inferInsert, "id" | "userId" | "createdAt" | "updatedAt">;

export class ProjectsRepository {
  constructor(private readonly db: Db) {}

  private owned(actor: Actor, id: string) {
    return and(eq(projects.id, id), eq(projects.userId, actor.userId));
  }

  async insert(actor: Actor, values: NewProject): Promise<Project> {
    const [row] = await this.db
      .insert(projects)
      .values({ ...values, userId: actor.userId })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return row;
  }

  list(actor: Actor): Promise<Project[]> {
    return this.db
      .select()
      .from(projects)
      .where(eq(projects.userId, actor.userId))
      .orderBy(asc(projects.name));
  }

  async findById(actor: Actor, id: string): Promise<Project | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(projects).where(this.owned(actor, id));
    return row;
  }

  async findByName(actor: Actor, name: string): Promise<Project | undefined> {
    const [row] = await this.db
      .select()
      .from(projects)
      .where(and(eq(projects.name, name), eq(projects.userId, actor.userId)));
    return row;
  }

  async update(actor: Actor, id: string, patch: Partial<NewProject>): Promise<Project | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(projects)
      .set({ ...patch, updatedAt: new Date() })
      .where(this.owned(actor, id))
      .returning();
    return row;
  }

  async delete(actor: Actor, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.delete(projects).where(this.owned(actor, id)).returning({ id: projects.id });
    return rows.length > 0;
  }
}
