// What went wrong, in the reader's words: quotas with how long to wait, a missing model, sign-in, offline.

function wait(seconds) {
  if (seconds === null || seconds === undefined) return "a little while";
  if (seconds < 60) return seconds <= 1 ? "a second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "a minute" : `${minutes} minutes`;
  const hours = Math.ceil(minutes / 60);
  return hours === 1 ? "an hour" : `${hours} hours`;
}

/** What went wrong, in the reader's words. */
export function describeError(error) {
  if (!error || error.kind === "aborted") return "Stopped.";
  if (error.kind === "offline" || error.kind === "network" || error.kind === "protocol") return error.message;
  if (error.status === 429) {
    return `You have reached the limit for now. Try again in ${wait(error.retryAfter)}.`;
  }
  if (error.code === "llm_not_configured") {
    return "The book's AI model is not set up yet, so this cannot be generated. The site's team needs to configure it.";
  }
  if (error.code === "llm_timeout") return "The AI model took too long to answer. Try again in a moment.";
  if (error.code === "llm_unavailable") return "The AI model is not answering right now. Try again in a moment.";
  if (error.code === "signed_out" || error.code === "invalid_token" || error.status === 401) {
    if (error.code === "invalid_credentials") return "That email and password do not match an account.";
    return "Sign in first (Account tab).";
  }
  if (error.status >= 500) return `Something went wrong on the server (error ${error.status}). Try again in a moment.`;
  const fields = (error.problem?.errors ?? []).map((item) => `${item.field}: ${item.message}`);
  return [error.message, ...fields].join(" ");
}
