import { AuthForm } from "@/components/AuthForm";

export const metadata = { title: "Sign in · vodpipe" };

export default function SignInPage() {
  return <AuthForm mode="signin" />;
}
