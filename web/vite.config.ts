import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The admin UI's build: web/ → dist/web/, served by the server at /admin/ (src/admin/). Every asset
 * but index.html has a content hash in its name, so the server can let browsers cache them for a
 * year; nothing is inlined into index.html, so the page runs under a CSP without 'unsafe-inline'.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web/', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inlined assets would need data: in the CSP; fonts and icons are files like any other.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
