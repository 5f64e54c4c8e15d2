// The file system as the loaders see it: the library's reader (reads and globs, nothing else).
export { diskReader as fileReader } from "../api/file-reader.js";
