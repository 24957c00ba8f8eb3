export { slugify } from "./slugify.js";
export { wordCount } from "./word-count.js";
