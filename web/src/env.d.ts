// Vite's client types: CSS (and CSS module) imports, import.meta.env.
/// <reference types="vite/client" />
