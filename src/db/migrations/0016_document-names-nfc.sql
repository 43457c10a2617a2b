-- Document names are kept in Unicode's composed form (NFC) from now on, as uploads are named: "café.md" sent
-- decomposed (as macOS's older file systems write it) and composed is one document, not two. A stored name
-- takes that form too, unless the project has it already with the same content (or a second way of writing
-- it, with a smaller id, takes it first): renamed, it would break the unique key, so it keeps its name.
-- normalize() needs a UTF8 database; on any other, names stay as they are.
DO $$
BEGIN
  IF current_setting('server_encoding') = 'UTF8' THEN
    UPDATE "documents" AS d SET "name" = normalize(d."name", NFC)
    WHERE d."name" IS NOT NFC NORMALIZED
      AND NOT EXISTS (
        SELECT 1 FROM "documents" AS o
        WHERE o."project_id" = d."project_id" AND o."content_hash" = d."content_hash" AND o."id" <> d."id"
          AND normalize(o."name", NFC) = normalize(d."name", NFC)
          AND (o."name" IS NFC NORMALIZED OR o."id" < d."id")
      );
  END IF;
END $$;
