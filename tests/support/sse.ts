// The tests follow downloads with the same SSE reader as `flagship download`.
export { readSse, type SseEvent } from '@flagship/cli';
