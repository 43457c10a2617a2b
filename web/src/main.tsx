import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, api, onSignedOut, type User } from "./api";
import { DatasetPage } from "./DatasetPage";
import { LoginPage } from "./LoginPage";
import { Nav, useRoute } from "./Nav";
import { ProjectPage } from "./ProjectPage";
import { ProjectsPage } from "./ProjectsPage";
import { TrainingPage } from "./TrainingPage";
import "./style.css";

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const route = useRoute();

  useEffect(() => {
    onSignedOut(() => setUser(null));
    api<{ user: User }>("GET", "/api/auth/me")
      .then(({ user }) => setUser(user))
      .catch((error) => setUser(error instanceof ApiError && error.status === 401 ? null : undefined));
  }, []);

  if (user === undefined) return <p className="muted">Loading…</p>;
  if (user === null) return <LoginPage onSignedIn={setUser} />;
  return (
    <>
      <header>
        <strong>FineFlow</strong>
        <Nav route={route} />
        <span className="muted">{user.isLocalOwner ? "local owner" : user.email}</span>
        <button
          type="button"
          onClick={async () => {
            await api("POST", "/api/auth/logout");
            setUser(null);
          }}
        >
          Sign out
        </button>
      </header>
      {route.page === "training" ? (
        <TrainingPage />
      ) : route.page === "project" ? (
        // Keyed by id: another project's page starts afresh, with nothing of the one shown before.
        <ProjectPage key={route.id} id={route.id} />
      ) : route.page === "dataset" ? (
        <DatasetPage key={route.id} id={route.id} />
      ) : (
        <ProjectsPage />
      )}
    </>
  );
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
