// The net under every screen: an error thrown while rendering would otherwise unmount the whole app and leave a
// blank page. React catches such errors only in a class component with getDerivedStateFromError.
import { Component } from "react";

import { SomethingWentWrong } from "./screens.jsx";

export default class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { failed: false };
    this.backToCourses = this.backToCourses.bind(this);
    this.startAgain = this.startAgain.bind(this);
  }

  static getDerivedStateFromError() {
    // The error itself stays in the browser console (React logs it there); the student reads plain words.
    return { failed: true };
  }

  componentDidMount() {
    // Any way back (the button, the brand link, the browser's Back) renders the app afresh.
    window.addEventListener("hashchange", this.startAgain);
  }

  componentWillUnmount() {
    window.removeEventListener("hashchange", this.startAgain);
  }

  startAgain() {
    if (this.state.failed) this.setState({ failed: false });
  }

  backToCourses() {
    // Already on the list, the hash does not change and no hashchange comes: start again here.
    window.location.hash = "#/";
    this.startAgain();
  }

  render() {
    if (this.state.failed) return <SomethingWentWrong onBack={this.backToCourses} />;
    return this.props.children;
  }
}
