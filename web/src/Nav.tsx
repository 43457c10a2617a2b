import { useEffect, useState } from "react";

/**
 * The app's pages, chosen by the URL's hash (#training, #project/<id>, #dataset/<id>), so no router is needed and reloads
 * keep the page.
 */
export type Route = { page: "projects" } | { page: "training" } | { page: "project" | "dataset"; id: string };

function routeOf(hash: string): Route {
  if (hash === "#training") return { page: "training" };
  const item = /^#(project|dataset)\/([\w-]+)$/.exec(hash);
  return item?.[2] ? { page: item[1] as "project" | "dataset", id: item[2] } : { page: "projects" };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function Nav({ route }: { route: Route }) {
  const training = route.page === "training";
  return (
    <nav aria-label="Main">
      <a href="#projects" aria-current={training ? undefined : "page"}>
        Projects
      </a>
      <a href="#training" aria-current={training ? "page" : undefined}>
        Training
      </a>
    </nav>
  );
}
