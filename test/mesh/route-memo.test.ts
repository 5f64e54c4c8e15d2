import { describe, expect, it } from "vitest";
import { RouteMemo } from "../../src/mesh/route-memo.js";

describe("route memo", () => {
  it("remembers only requests whose headers cannot change: none, or a frozen object", () => {
    expect(RouteMemo.cacheable(undefined)).toBe(true);
    expect(RouteMemo.cacheable(Object.freeze({ "x-canary": "1" }))).toBe(true);
    expect(RouteMemo.cacheable({ "x-canary": "1" })).toBe(false);
  });

  it("tells apart every part of the shape: path, method, host and the headers object", () => {
    const memo = new RouteMemo<string>();
    const h1 = Object.freeze({ "x-canary": "1" });
    const h2 = Object.freeze({ "x-canary": "1" });
    memo.set("/a", "GET", "web", h1, "one");
    expect(memo.get("/a", "GET", "web", h1)).toBe("one");
    expect(memo.get("/a", "GET", "web", h2)).toBeUndefined(); // equal contents, another object
    expect(memo.get("/a", "POST", "web", h1)).toBeUndefined();
    expect(memo.get("/a", "GET", "web.shop", h1)).toBeUndefined();
    expect(memo.get("/a?x=1", "GET", "web", h1)).toBeUndefined();
    expect(memo.get("/a", "GET", "web", undefined)).toBeUndefined();
  });

  it("stops remembering after 256 shapes, so a stream of distinct paths cannot grow it", () => {
    const memo = new RouteMemo<number>();
    for (let i = 0; i < 300; i += 1) memo.set(`/p/${i}`, "GET", "h", undefined, i);
    expect(memo.get("/p/255", "GET", "h", undefined)).toBe(255);
    expect(memo.get("/p/256", "GET", "h", undefined)).toBeUndefined();
  });
});
