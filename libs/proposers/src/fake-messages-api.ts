import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { seededRandom } from './prng.ts';
import { estimateTokens, TOOL_NAME } from './prompt.ts';
import { samplePriorAssignment } from './sample.ts';
import { createSearchSpace } from './search-space.ts';

/** One scripted answer of the fake Messages API. */
export type FakeReply =
  /** A `tool_use` block calling the proposal tool with this input (any JSON, or a raw string). */
  | { kind: 'tool'; input: unknown }
  /** A text-only answer: no tool call at all. */
  | { kind: 'text'; text: string }
  /** An HTTP error with an Anthropic-shaped error body. */
  | { kind: 'status'; status: number; type: string; message: string; headers?: Record<string, string> }
  /** Reads the request and never answers (until the client gives up or the server closes). */
  | { kind: 'hang' };

/** Replies for the usual cases, so a test reads as its script. */
export const fakeReplies = {
  proposal: (configuration: unknown, rationale = 'a scripted proposal'): FakeReply => ({ kind: 'tool', input: { rationale, configuration } }),
  /** The tool input as a broken JSON string, as a model that lost track of its JSON would give. */
  malformedJson: (): FakeReply => ({ kind: 'tool', input: '{"rationale": "oops", "configuration": {"hiddenLayers": [' }),
  textOnly: (text = 'I think a wider network would help.'): FakeReply => ({ kind: 'text', text }),
  rateLimited: (retryAfterSeconds = 0.05): FakeReply => ({
    kind: 'status',
    status: 429,
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit',
    headers: { 'retry-after': String(retryAfterSeconds) },
  }),
  serverError: (): FakeReply => ({ kind: 'status', status: 500, type: 'api_error', message: 'Internal server error' }),
  hang: (): FakeReply => ({ kind: 'hang' }),
} as const;

/** A request the fake received, parsed. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The JSON body (`model`, `system`, `tools`, `tool_choice`, `messages`, ...). */
  body: Record<string, unknown>;
}

/** Options of `startFakeMessagesApi`. */
export interface FakeMessagesApiOptions {
  /**
   * Answers a request when the script is empty. Default: a proposal sampled from the default
   * search space, seeded by the request body, so the same request gets the same answer.
   */
  respond?: (request: RecordedRequest) => FakeReply;
}

/** A running fake; `url` is the base URL to give the SDK. */
export interface FakeMessagesApi {
  url: string;
  /** Every request received, in order (retries included). */
  readonly requests: RecordedRequest[];
  /** Appends replies to the script; each request takes the next one. */
  enqueue(...replies: FakeReply[]): void;
  /** Scripted replies not used yet. */
  readonly pending: number;
  close(): Promise<void>;
}

/** The text of every user turn of a recorded request (strings and text / tool_result blocks), joined. */
export function userText(request: RecordedRequest): string {
  const messages = (request.body['messages'] ?? []) as { role: string; content: unknown }[];
  const parts: string[] = [];
  for (const message of messages) {
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') parts.push(message.content);
    else if (Array.isArray(message.content)) {
      for (const block of message.content as { type: string; text?: string; content?: unknown }[]) {
        if (block.type === 'text' && block.text) parts.push(block.text);
        if (block.type === 'tool_result') parts.push(typeof block.content === 'string' ? block.content : JSON.stringify(block.content));
      }
    }
  }
  return parts.join('\n');
}

/** The key a request carried: `x-api-key`, or the bearer token (SDK 1.16 sends the API key as one). */
export function credentialOf(request: RecordedRequest): string | undefined {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string') return key;
  return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
}

/** The proposal tool's input schema in a recorded request. */
export function toolInputSchema(request: RecordedRequest): Record<string, unknown> | undefined {
  const tools = (request.body['tools'] ?? []) as { name: string; input_schema: Record<string, unknown> }[];
  return tools.find((t) => t.name === TOOL_NAME)?.input_schema;
}

/** A proposal from the default search space, the same for the same request body. */
export function sampledReply(request: RecordedRequest): FakeReply {
  const seed = createHash('sha256').update(JSON.stringify(request.body['messages'])).digest().readUInt32BE(0);
  const space = createSearchSpace();
  const configuration = space.decode(samplePriorAssignment(space, seededRandom(seed)));
  return fakeReplies.proposal(configuration, 'sampled by the fake Messages API');
}

function messageBody(request: RecordedRequest, reply: Extract<FakeReply, { kind: 'tool' | 'text' }>, id: number) {
  const content =
    reply.kind === 'tool'
      ? [{ type: 'tool_use', id: `toolu_fake_${id}`, name: TOOL_NAME, input: reply.input }]
      : [{ type: 'text', text: reply.text }];
  // Token counts estimated like `estimateTokens`, so budgets behave as with a real model.
  const input = estimateTokens(JSON.stringify([request.body['system'], request.body['messages'], request.body['tools']]));
  return {
    id: `msg_fake_${id}`,
    type: 'message',
    role: 'assistant',
    model: String(request.body['model']),
    content,
    stop_reason: reply.kind === 'tool' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: input, output_tokens: estimateTokens(JSON.stringify(content)) },
  };
}

/**
 * A local stand-in for Anthropic's Messages API (`POST /v1/messages`) on 127.0.0.1 and a free
 * port, for tests: the real SDK talks to it through its base URL. Each request is recorded and
 * answered by the next scripted reply, or by `respond` when the script is empty.
 */
export async function startFakeMessagesApi(options: FakeMessagesApiOptions = {}): Promise<FakeMessagesApi> {
  const respond = options.respond ?? sampledReply;
  const script: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let served = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${served}`, ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      served += 1;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // recorded with an empty body; the reply below says what was wrong
      }
      const request: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      if (request.method !== 'POST' || !request.path.startsWith('/v1/messages')) {
        send(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${request.method} ${request.path}` } });
        return;
      }
      const reply = script.shift() ?? respond(request);
      if (reply.kind === 'hang') return;
      if (reply.kind === 'status') {
        send(res, reply.status, { type: 'error', error: { type: reply.type, message: reply.message } }, reply.headers);
        return;
      }
      send(res, 200, messageBody(request, reply, served));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => void script.push(...replies),
    get pending() {
      return script.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests keep their sockets open; end them so close() returns.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
