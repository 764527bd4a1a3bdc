// A GraphQL client built on the reference implementation (graphql-js), run by
// TestGraphQLClient: it reads the schema from a running gradpath by introspection, checks it
// is the repository's schema file, then validates and runs every example operation of
// docs/graphql.md, each as the signed-in demo student.
//
// Then, with graphql-ws (graphql-transport-ws), it follows the lead queue as an admin while a
// visitor asks for a callback through the createLead mutation, and expects the lead within
// seconds; a student's subscription is refused.
//
//   node graphql-client.mjs URL SCHEMA_FILE DOC_FILE TOKEN ADMIN_TOKEN
import { readFileSync } from "node:fs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  GraphQLSchema, buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema,
  parse, printSchema, validate,
} from "graphql";

const [url, schemaFile, docFile, token, adminToken] = process.argv.slice(2);

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

function subscribe(auth, query) {
  const client = createClient({
    url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${auth}` },
  });
  const events = [];
  let failed = null;
  const waiters = [];
  client.subscribe({ query }, {
    next: (v) => { events.push(v); waiters.splice(0).forEach((w) => w()); },
    error: (e) => { failed = e; waiters.splice(0).forEach((w) => w()); },
    complete: () => {},
  });
  return {
    client, events,
    async until(pred, ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (failed) return { failed };
        const hit = events.find(pred);
        if (hit) return { hit };
        await new Promise((r) => { waiters.push(r); setTimeout(r, 200); });
      }
      return { timeout: true };
    },
  };
}

const queue = subscribe(adminToken, "subscription { leadQueue { type lead { id name status assignee } } }");
await new Promise((r) => setTimeout(r, 300)); // subscribed before the lead arrives
const formToken = (await (await fetch(url.replace("/api/graphql", "/api/v1/leads/form-token"))).json()).form_token;
const notice = (await (await fetch(url.replace("/api/graphql", "/api/v1/privacy-notice"))).json()).version;
const name = `Kavya Live ${Date.now()}`;
const created = await post(`mutation { createLead(input: {kind: "callback", name: "${name}", phone: "+91 98450 11223",
  interest: {course: "Data Science", country: "GB"}, formToken: "${formToken}",
  consent: {contact: true, noticeVersion: "${notice}"}}) { id status firstResponseDue } }`);
if (created.body.errors || !created.body.data.createLead.id) fail(`createLead: ${JSON.stringify(created.body)}`);
const got = await queue.until((e) => e.data?.leadQueue?.lead?.name === name, 15000);
if (!got.hit) fail(`the lead queue subscription did not hear of ${name}: ${JSON.stringify(got)} after ${JSON.stringify(queue.events)}`);
console.log(`leadQueue: ${got.hit.data.leadQueue.type} ${got.hit.data.leadQueue.lead.id}`);
queue.client.dispose();

const refused = subscribe(token, "subscription { leadQueue { type } }");
const r = await refused.until(() => true, 5000);
const codes = JSON.stringify(r.failed ?? r.hit ?? r);
if (!codes.includes("forbidden")) fail(`a student's lead queue subscription: ${codes}`);
refused.client.dispose();
console.log("a student's lead queue subscription is refused");

const mine = subscribe(token, "subscription { applicationChanges { type application { id status programme { title } } } }");
await new Promise((r) => setTimeout(r, 300));
const app = await post(`mutation { createApplication(input: {programmeId: "unimelb-mc-cs", intake: "2027-03"}) { id } }`, token);
if (app.body.errors) fail(`createApplication: ${JSON.stringify(app.body)}`);
const id = app.body.data.createApplication.id;
const moved = await post(`mutation { updateApplication(id: "${id}", change: {status: "submitted", note: "sent on the portal"}) { status } }`, token);
if (moved.body.errors) fail(`updateApplication: ${JSON.stringify(moved.body)}`);
const change = await mine.until((e) => e.data?.applicationChanges?.application?.id === id, 15000);
if (!change.hit || change.hit.data.applicationChanges.application.status !== "submitted") {
  fail(`applicationChanges did not tell of ${id}: ${JSON.stringify(change)}`);
}
console.log(`applicationChanges: ${change.hit.data.applicationChanges.type} ${id} submitted`);
mine.client.dispose();
