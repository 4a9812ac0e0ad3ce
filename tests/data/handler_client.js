import axios from "axios";
import { createHash } from "crypto";
const { execFile } = require("child_process");

const BASE_URL = "https://api.example.com";

/**
 * Build the cache key for a request.
 */
export function cacheKey(method, url) {
  return createHash("sha256").update(`${method} ${url}`).digest("hex");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiClient {
  constructor(token) {
    this.token = token;
    this.cache = new Map();
  }

  async get(path, retries = 3) {
    const key = cacheKey("GET", path);
    if (this.cache.has(key)) {
      return this.cache.get(key);
    }
    for (let attempt = 0; attempt < retries; attempt++) {
      try {
        const response = await axios.get(BASE_URL + path, { headers: this.headers() });
        this.cache.set(key, response.data);
        return response.data;
      } catch (err) {
        if (attempt === retries - 1 || err.status < 500) {
          throw new Error(`GET ${path} failed: ${err.message}`);
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    return null;
  }

  headers() {
    return { Authorization: `Bearer ${this.token}` };
  }
}

function runTool(args) {
  return new Promise((resolve, reject) => {
    execFile("tool", args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
