import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createProjectSchema, updateProjectSchema } from "../../core/inputs.js";
import type { Project } from "../../db/repositories/projects-repository.js";
import type { ProjectService } from "../../services/project-service.js";
import type { AppEnv } from "../env.js";
import { ErrorSchema, errorResponses, IdParams, json, jsonBody, ProjectSchema } from "../schemas.js";

export const toProjectDto = ({ userId: _owner, ...project }: Project) => ({
  ...project,
  createdAt: project.createdAt.toISOString(),
  updatedAt: project.updatedAt.toISOString(),
});

const conflict = { 409: json(ErrorSchema, "You already have a project with that name") };

export function projectRoutes(app: OpenAPIHono<AppEnv>, projects: ProjectService) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/projects",
      summary: "List your projects",
      responses: {
        200: json(z.object({ projects: z.array(ProjectSchema) }), "Your projects"),
        401: errorResponses[401],
      },
    }),
    async (c) => c.json({ projects: (await projects.list(c.get("actor"))).map(toProjectDto) }, 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/projects",
      summary: "Create a project",
      request: { body: jsonBody(createProjectSchema) },
      responses: { 201: json(ProjectSchema, "The new project"), ...errorResponses, ...conflict },
    }),
    async (c) => c.json(toProjectDto(await projects.create(c.get("actor"), c.req.valid("json"))), 201),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/projects/{id}",
      summary: "One project",
      request: { params: IdParams },
      responses: { 200: json(ProjectSchema, "The project"), ...errorResponses },
    }),
    async (c) => c.json(toProjectDto(await projects.get(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/projects/{id}",
      summary: "Change a project's name, description or budget",
      request: { params: IdParams, body: jsonBody(updateProjectSchema) },
      responses: { 200: json(ProjectSchema, "The changed project"), ...errorResponses, ...conflict },
    }),
    async (c) => {
      const project = await projects.update(c.get("actor"), c.req.valid("param").id, c.req.valid("json"));
      return c.json(toProjectDto(project), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/projects/{id}",
      summary: "Delete a project and everything in it",
      request: { params: IdParams },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      await projects.delete(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
}
