// A GraphQL client built on the reference implementation (graphql-js), run by
// TestGraphQLClient: it reads the schema from a running gradpath by introspection, checks it
// is the repository's schema file, then validates and runs every example operation of
// docs/graphql.md, each as the signed-in demo student.
//
//   node graphql-client.mjs URL SCHEMA_FILE DOC_FILE TOKEN
import { readFileSync } from "node:fs";
import {
  GraphQLSchema, buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema,
  parse, printSchema, validate,
} from "graphql";

const [url, schemaFile, docFile, token] = process.argv.slice(2);

async function post(query, auth) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  return { status: res.status, body };
}

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

const intro = await post(getIntrospectionQuery());
if (intro.body.errors) fail(`introspection: ${JSON.stringify(intro.body.errors)}`);
const client = buildClientSchema(intro.body.data);
// The server adds @defer (gqlgen's, for incremental delivery) to the file's definitions.
const served = lexicographicSortSchema(new GraphQLSchema({
  ...client.toConfig(), directives: client.getDirectives().filter((d) => d.name !== "defer"),
}));
const file = lexicographicSortSchema(buildSchema(readFileSync(schemaFile, "utf8")));
if (printSchema(served) !== printSchema(file)) {
  const a = printSchema(served).split("\n"), b = printSchema(file).split("\n");
  const i = a.findIndex((line, k) => line !== b[k]);
  fail(`the served schema differs from ${schemaFile} at line ${i + 1}:\n  served: ${a[i]}\n  file:   ${b[i]}`);
}

const examples = [...readFileSync(docFile, "utf8").matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
if (examples.length < 4) fail(`only ${examples.length} examples in ${docFile}`);
for (const text of examples) {
  const doc = parse(text);
  const name = doc.definitions[0].name?.value ?? "(anonymous)";
  const errors = validate(served, doc);
  if (errors.length) fail(`${name} does not validate: ${errors.map(String).join("; ")}`);
  const { status, body } = await post(text, token);
  if (status !== 200 || body.errors || !body.data) fail(`${name}: ${status} ${JSON.stringify(body)}`);
  const values = Object.values(body.data);
  if (values.some((v) => v === null)) fail(`${name} answered null: ${JSON.stringify(body.data)}`);
  console.log(`${name}: ok, ${JSON.stringify(body).length} bytes`);
}
console.log(`schema matches; ${examples.length} examples validated and ran`);
