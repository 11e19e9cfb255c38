import type { AppProps } from "next/app";
import { LaunchProvider } from "../lib/launch-context";
import "../styles/globals.css";

export default function MiniApp({ Component, pageProps }: AppProps) {
  return (
    <LaunchProvider>
      <Component {...pageProps} />
    </LaunchProvider>
  );
}
