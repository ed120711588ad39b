import { v } from "convex/values";
import { action, mutation, query } from "./_generated/server";
import { api } from "./_generated/api";

export const generateUploadUrl = mutation({
  args: {},
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});

export const save = mutation({
  args: { storageId: v.id("_storage"), name: v.string() },
  handler: async (ctx, { storageId, name }) => await ctx.db.insert("files", { storageId, name }),
});

/** Everything a query can learn about a stored file. */
export const describe = query({
  args: { storageId: v.id("_storage") },
  handler: async (ctx, { storageId }) => {
    const doc = await ctx.db.system.get(storageId);
    return {
      url: await ctx.storage.getUrl(storageId),
      metadata: await ctx.storage.getMetadata(storageId),
      system: doc === null ? null : { size: doc.size, sha256: doc.sha256, contentType: doc.contentType ?? null },
    };
  },
});

export const listStorage = query({
  args: {},
  handler: async (ctx) => {
    const rows = await ctx.db.system.query("_storage").collect();
    return rows.map((r) => ({ id: r._id, size: r.size }));
  },
});

export const listFiles = query({
  args: {},
  handler: async (ctx) => {
    const rows = await ctx.db.query("files").collect();
    return await Promise.all(
      rows.map(async (r) => ({ name: r.name, url: await ctx.storage.getUrl(r.storageId) })),
    );
  },
});

export const remove = mutation({
  args: { storageId: v.id("_storage") },
  handler: async (ctx, { storageId }) => {
    await ctx.storage.delete(storageId);
  },
});

/** Not allowed: queries only read files (convex/server hides the method; call the syscall). */
export const uploadUrlFromQuery = query({
  args: {},
  handler: async () =>
    await (globalThis as any).Convex.asyncSyscall("1.0/storageGenerateUploadUrl", "{}"),
});

/** Not allowed: store() takes a Blob only in actions. */
export const storeFromMutation = mutation({
  args: {},
  handler: async (ctx) => await (ctx.storage as any).store(new Blob(["x"])),
});

export const storeText = action({
  args: { text: v.string(), contentType: v.string(), sha256: v.optional(v.string()) },
  handler: async (ctx, { text, contentType, sha256 }) => {
    const blob = new Blob([text], { type: contentType });
    return await ctx.storage.store(blob, sha256 === undefined ? undefined : { sha256 });
  },
});

export const readText = action({
  args: { storageId: v.id("_storage") },
  handler: async (ctx, { storageId }) => {
    const blob = await ctx.storage.get(storageId);
    if (blob === null) return null;
    const meta = await ctx.storage.getMetadata(storageId);
    const url = await ctx.storage.getUrl(storageId);
    return { text: await blob.text(), type: blob.type, size: blob.size, sha256: meta?.sha256, url };
  },
});

/** An action that stores, saves via a mutation, reads back and deletes. */
export const roundTrip = action({
  args: { bytes: v.bytes() },
  handler: async (ctx, { bytes }) => {
    const id = await ctx.storage.store(new Blob([bytes], { type: "application/octet-stream" }));
    await ctx.runMutation(api.files.save, { storageId: id, name: "round-trip" });
    const back = await ctx.storage.get(id);
    const same = back !== null && (await back.arrayBuffer()).byteLength === bytes.byteLength;
    await ctx.storage.delete(id);
    const gone = await ctx.storage.get(id);
    return { id, same, goneIsNull: gone === null };
  },
});

export const urlOf = query({
  args: { storageId: v.string() },
  handler: async (ctx, { storageId }) => await ctx.storage.getUrl(storageId as any),
});

/** A large generated file: stored from an action, read back and checked byte by byte. */
export const storeGenerated = action({
  args: { size: v.number() },
  handler: async (ctx, { size }) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31) & 0xff;
    const id = await ctx.storage.store(new Blob([bytes]));
    const back = new Uint8Array(await (await ctx.storage.get(id))!.arrayBuffer());
    let same = back.length === size;
    for (let i = 0; same && i < size; i++) same = back[i] === bytes[i];
    return { id, same, type: (await ctx.storage.getMetadata(id))?.contentType ?? null };
  },
});

/** Store bytes from an action and return what storage.get gives back. */
export const echoBytes = action({
  args: { bytes: v.bytes() },
  handler: async (ctx, { bytes }) => {
    const id = await ctx.storage.store(new Blob([bytes]));
    const back = await ctx.storage.get(id);
    return { id, bytes: await back!.arrayBuffer() };
  },
});
