// How the outbound proxy reads a request and its answers, in the policy library's terms: the parts
// route matching looks at (path without the query, the decoded query, the headers), the class of a
// finished attempt, and what the retry layer can see of it. Every rule is src/policy's
// (classify.ts, retry-decision.ts, route-match.ts); this file only builds their inputs.

import { grpcStatusSeenByRetry, isPolicyRouteFailure, isResponseFailure, type ResponseOutcome } from "../policy/classify.js";
import type { ResponseClass } from "../policy/profile-routes.js";
import type { AnnotationAttemptOutcome } from "../policy/retry-decision.js";
import type { RouteRequest } from "../policy/route-match.js";
import { type HttpRequest, type HttpResponse, responseOutcome, splitQuery } from "./http.js";

/** What HTTPRoute/GRPCRoute matching sees of a request: path and query apart, headers as sent. */
export function routeRequest(request: HttpRequest, host: string): RouteRequest {
  const { path, query } = splitQuery(request.path);
  return { host, path, method: request.method, headers: request.headers ?? {}, query };
}

/** Which classifier judges the attempt: a ServiceProfile route's classes, or a client-policy route of one kind. */
export type AttemptClassifier = { stack: "profile"; responseClasses: readonly ResponseClass[] } | { stack: "policy"; routeKind: "http" | "grpc" };

export interface AttemptClass {
  /** The class metrics, failure accrual and EWMA see, at the end of the stream. */
  failure: boolean;
  /** The class a ServiceProfile retry judges: trailers after a streamed body are not there yet. */
  failureSeenByRetry: boolean;
}

function judge(classifier: AttemptClassifier, outcome: ResponseOutcome): boolean {
  return classifier.stack === "profile" ? isResponseFailure(classifier.responseClasses, outcome) : isPolicyRouteFailure(classifier.routeKind, outcome);
}

/** Classify a finished attempt for `request`. */
export function classifyAttempt(classifier: AttemptClassifier, request: HttpRequest, res: HttpResponse): AttemptClass {
  const outcome = responseOutcome(request, res);
  const failure = judge(classifier, outcome);
  const seen = grpcStatusSeenByRetry(outcome.grpcStatus, res.grpcStatusIn);
  if (seen === outcome.grpcStatus) return { failure, failureSeenByRetry: failure };
  const withoutTrailers: ResponseOutcome = { status: outcome.status, isGrpc: outcome.isGrpc };
  return { failure, failureSeenByRetry: judge(classifier, withoutTrailers) };
}

/** The attempt as the annotation retry policy judges it: an error, or HTTP status and the grpc-status it can see. */
export function annotationOutcome(res: HttpResponse): AnnotationAttemptOutcome {
  if (res.error !== undefined) return { kind: "error", error: res.error };
  const grpcStatus = grpcStatusSeenByRetry(res.grpcStatus, res.grpcStatusIn);
  return grpcStatus === undefined ? { kind: "response", status: res.status } : { kind: "response", status: res.status, grpcStatus };
}
