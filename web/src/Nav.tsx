import { useEffect, useState } from "react";

/** The app's two pages, chosen by the URL's hash (#training), so no router is needed and reloads keep it. */
export type Page = "projects" | "training";

const pageOf = (hash: string): Page => (hash === "#training" ? "training" : "projects");

export function usePage(): Page {
  const [page, setPage] = useState(() => pageOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageOf(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return page;
}

export function Nav({ page }: { page: Page }) {
  return (
    <nav aria-label="Main">
      <a href="#projects" aria-current={page === "projects" ? "page" : undefined}>
        Projects
      </a>
      <a href="#training" aria-current={page === "training" ? "page" : undefined}>
        Training
      </a>
    </nav>
  );
}
