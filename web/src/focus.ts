import { useEffect, useRef } from "react";

/**
 * A ref, and a way to ask for it to be focused once the next render has put its element back: for a button
 * that reappears when the question or form that replaced it closes, so that the focus does not fall to the
 * page's <body>.
 */
export function useFocusLater<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const wanted = useRef(false);
  useEffect(() => {
    if (!wanted.current || !ref.current) return;
    wanted.current = false;
    ref.current.focus();
  });
  return [
    ref,
    () => {
      wanted.current = true;
    },
  ] as const;
}
