// Test-only: a small `courses` subgraph (whose `Course.author` is a
// reference to the user-service's `User` entity, and which defines its own
// Relay `PageInfo`, shareable like the user-service's) and an Apollo gateway
// composing it with the user-service, both on loopback ports chosen by the
// system. Started by tests/api/federation.rs, which reads the one JSON line
// this prints ({"gateway": url, "courses": url}) and closes our stdin to stop
// us (we also exit when the parent dies, since stdin then closes).
//
// Environment: USERS_URL (the user-service's /graphql; several, comma
// separated, are replicas the gateway takes in turn), ROUTER_SECRET
// (optional: sent as `Router-Authorization` to the user-service), USERS_APQ
// (optional, `1`: the gateway sends the user-service automatic persisted
// queries). A client's `Authorization` is passed on to the user-service.

import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { parse } from 'graphql';

const usersUrl = process.env.USERS_URL;
if (!usersUrl) {
  console.error('USERS_URL is required');
  process.exit(2);
}
const routerSecret = process.env.ROUTER_SECRET;

const courses = [
  { id: 'c1', title: 'Rust for GraphQL', authorId: 'ada' },
  { id: 'c2', title: 'Federation in practice', authorId: 'grace' },
  { id: 'c3', title: 'PostgreSQL internals', authorId: 'linus' },
  { id: 'c4', title: 'Async Rust', authorId: 'ada' },
];

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable"])

  type Course @key(fields: "id") {
    id: ID!
    title: String!
    author: User!
  }

  type User @key(fields: "authUserId", resolvable: false) {
    authUserId: ID!
  }

  type PageInfo @shareable {
    hasNextPage: Boolean!
    endCursor: String
  }

  type CourseEdge {
    cursor: String!
    node: Course!
  }

  type CourseConnection {
    edges: [CourseEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type Query {
    courses: [Course!]!
    coursesConnection(first: Int = 20, after: String): CourseConnection!
  }
`);

// Cursors here are plain offsets: this is a stand-in subgraph.
const coursesConnection = (_, { first, after }) => {
  const start = after ? Number(after) + 1 : 0;
  const page = courses.slice(start, start + first);
  const edges = page.map((course, index) => ({ cursor: String(start + index), node: course }));
  return {
    edges,
    pageInfo: {
      hasNextPage: start + first < courses.length,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
    totalCount: courses.length,
  };
};

const resolvers = {
  Query: { courses: () => courses, coursesConnection },
  Course: {
    __resolveReference: (ref) => courses.find((course) => course.id === ref.id),
    author: (course) => ({ __typename: 'User', authUserId: course.authorId }),
  },
};

const coursesServer = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
const { url: coursesUrl } = await startStandaloneServer(coursesServer, {
  listen: { host: '127.0.0.1', port: 0 },
});

const usersUrls = usersUrl.split(',');
let nextUsers = 0;

class UsersDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    // Replicas in turn, one request each.
    request.http.url = usersUrls[nextUsers++ % usersUrls.length];
    if (routerSecret) {
      request.http.headers.set('Router-Authorization', routerSecret);
    }
    if (context && context.authorization) {
      request.http.headers.set('Authorization', context.authorization);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'users', url: usersUrls[0] },
      { name: 'courses', url: coursesUrl },
    ],
  }),
  buildService: ({ name, url }) =>
    name === 'users'
      ? new UsersDataSource({ url, apq: process.env.USERS_APQ === '1' })
      : new RemoteGraphQLDataSource({ url }),
});

const gatewayServer = new ApolloServer({ gateway });
const { url: gatewayUrl } = await startStandaloneServer(gatewayServer, {
  listen: { host: '127.0.0.1', port: 0 },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});

console.log(JSON.stringify({ gateway: gatewayUrl, courses: coursesUrl }));

const stop = async () => {
  await Promise.allSettled([gatewayServer.stop(), coursesServer.stop()]);
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
