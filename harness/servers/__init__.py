"""The Inngest servers the suite starts (dev server, self-hosted) and the APIs it reads."""
